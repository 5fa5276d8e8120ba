"""How the processes reach Temporal: the client, the data converter and the worker's parts."""

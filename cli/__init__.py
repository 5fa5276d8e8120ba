"""The operators' and approvers' command line (`python starter.py …`)."""

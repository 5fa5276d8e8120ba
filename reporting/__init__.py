"""Campaign review (复盘): the queries the review activity and the CLI share."""

"""`preview`: what a campaign would do if started now, worked out for real and then undone."""

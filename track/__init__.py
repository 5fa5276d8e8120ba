"""The track API: sources post batches of behaviour events, stored where file imports put them."""

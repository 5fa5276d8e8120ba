"""Channel adapters: one module per provider behind the interface in `channels.base`."""

"""Message content: the sandboxed template language and rendering per customer."""

"""Local stand-ins for the providers behind `channels/`: they check what the real ones check
(signatures, tokens, required fields, templates, number formats) and answer with the providers'
documented bodies, keep what they accepted in memory, and can be told to fail."""

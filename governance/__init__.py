"""Who may do what: roles and the approval checks that use them; PII key rotation."""

"""Database access: engine and sessions (`db.engine`) and the queries shared by CLI and review."""

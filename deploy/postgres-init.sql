-- Temporal's own databases live beside the product's, on the same PostgreSQL server.
CREATE DATABASE temporal OWNER omnireach;
CREATE DATABASE temporal_visibility OWNER omnireach;

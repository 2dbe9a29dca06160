"""Embedded PostgreSQL and Redis for development (`make run`) and the test suite, and the `make run`
supervisor. Nothing here is used in production, where DATABASE_URL and REDIS_URL point at real servers."""

import pytest

from ivr.hotline.db import Database


@pytest.fixture
def db(database_url) -> Database:
    """A Database on ``database_url`` (SQLite, then PostgreSQL) with every table; disposed by the
    autouse ``_dispose_databases``."""
    db = Database(database_url)
    db.create_all()
    return db

"""Alembic environment: migrations run on the connection `engine.schema` hands in."""
from alembic import context
from sqlalchemy import create_engine

from engine.db import Base

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:  # invoked by the alembic command line
        with create_engine(config.get_main_option("sqlalchemy.url")).connect() as conn:
            _migrate(conn)
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


run()

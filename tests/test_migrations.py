"""The Alembic migrations build the whole schema and take it down again, on PostgreSQL."""

from sqlalchemy import inspect, text

from db.engine import make_engine
from models.schema import metadata as schema
from tests.conftest import create_database, downgrade, drop_database, migrate


def test_upgrade_then_downgrade_on_postgresql() -> None:
    url = create_database("omni_mig")
    engine = make_engine(url)
    try:
        migrate(url)
        tables = set(inspect(engine).get_table_names())
        assert set(schema.tables) <= tables
        downgrade(url)
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate(url)
        assert set(schema.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
        drop_database(url)


def test_migrations_match_the_models(pg_url: str) -> None:
    """Autogenerate finds nothing to add: the migration and the tables agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(pg_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema)
    engine.dispose()
    assert diff == []


def test_index_methods_and_predicates_match_the_models(pg_url: str) -> None:
    """What autogenerate does not compare: each index's method and partial predicate."""
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        built: dict[str, str] = dict(
            conn.execute(
                text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
            ).all()
        )
    engine.dispose()
    for table in schema.tables.values():
        for index in table.indexes:
            assert index.name is not None, "the naming convention names every index"
            options = index.dialect_options["postgresql"]
            method = options["using"] or "btree"
            assert f" USING {method} " in built[index.name], index.name
            if options["where"] is not None:
                assert f"WHERE ({options['where']})" in built[index.name], index.name

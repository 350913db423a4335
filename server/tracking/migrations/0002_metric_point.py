"""The metric points table, owned by server/tracking/points.py (see its docstring).

To partition it once it grows past a few billion rows, create it instead as
    CREATE TABLE tracking_metric_point (...) PARTITION BY HASH (run_id);
    CREATE TABLE tracking_metric_point_p0 PARTITION OF tracking_metric_point
        FOR VALUES WITH (MODULUS 16, REMAINDER 0);  -- ... one per remainder
and copy the rows over; every query filters on run_id, so none changes.
"""

from django.db import migrations

POSTGRESQL = """
CREATE TABLE tracking_metric_point (
    run_id bigint NOT NULL,
    step bigint NOT NULL,
    value double precision NOT NULL,
    wall_time double precision NOT NULL,
    key_id integer NOT NULL
);
CREATE INDEX tracking_metric_point_run_key_step ON tracking_metric_point (run_id, key_id, step);
"""

SQLITE = """
CREATE TABLE tracking_metric_point (
    run_id bigint NOT NULL,
    step bigint NOT NULL,
    value real NULL,
    wall_time real NOT NULL,
    key_id integer NOT NULL
);
CREATE INDEX tracking_metric_point_run_key_step ON tracking_metric_point (run_id, key_id, step);
"""


def create(apps, schema_editor):
    sql = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in filter(str.strip, sql.split(";")):
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    schema_editor.execute("DROP TABLE tracking_metric_point")


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]

"""History overviews (see server/tracking/overviews.py) and the queue of their builds.

Runs that ended before overviews existed are queued here as if marked long ago: the
`overviews_requeue` beat task sends their builds, 1,000 a minute, with no burst at deploy.
"""

from datetime import UTC, datetime

import django.db.models.deletion
from django.db import migrations, models

# services.OVERVIEW_MIN_POINTS at the time of writing (a migration must not import live code).
OVERVIEW_MIN_POINTS = 8192


def queue_ended_runs(apps, schema_editor):
    long_ago = schema_editor.connection.ops.adapt_datetimefield_value(datetime(2000, 1, 1, tzinfo=UTC))
    schema_editor.execute(
        "INSERT INTO tracking_overviewbuild (run_id, marked_at) "
        "SELECT DISTINCT s.run_id, %s FROM tracking_metricsummary s JOIN tracking_run r ON r.id = s.run_id "
        "WHERE r.status <> 'running' AND s.count > %s",
        [long_ago, OVERVIEW_MIN_POINTS],
    )


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0002_metric_point"),
    ]

    operations = [
        migrations.CreateModel(
            name="OverviewBuild",
            fields=[
                (
                    "run",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="tracking.run",
                    ),
                ),
                ("marked_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="MetricOverview",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("level", models.SmallIntegerField()),
                ("count", models.BigIntegerField()),
                ("first_step", models.BigIntegerField()),
                ("last_step", models.BigIntegerField()),
                ("payload", models.BinaryField()),
                ("built_at", models.DateTimeField()),
                (
                    "key",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tracking.metrickey"
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tracking.run"),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("run", "key", "level"), name="metric_overview_unique_run_key_level")
                ],
            },
        ),
        migrations.RunPython(queue_ended_runs, migrations.RunPython.noop),
    ]

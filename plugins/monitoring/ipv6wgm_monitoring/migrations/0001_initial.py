from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Alert',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=96)),
                ('rule_id', fields.CharField(max_length=64)),
                ('series_key', fields.CharField(max_length=40)),
                ('name', fields.CharField(max_length=128)),
                ('description', fields.CharField(default='', max_length=255)),
                ('level', fields.CharField(max_length=8)),
                ('metric_name', fields.CharField(max_length=128)),
                ('comparison', fields.CharField(max_length=2)),
                ('threshold_value', fields.FloatField()),
                ('current_value', fields.FloatField(null=True)),
                ('node', fields.CharField(max_length=64)),
                ('tags', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharField(max_length=10)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('fired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution', fields.CharField(null=True, max_length=32)),
                ('resolved_by', fields.CharField(null=True, max_length=64)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('acknowledged_by', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'monitoring_alerts', 'app': 'monitoring', 'indexes': [Index(fields=['status', 'level']), Index(fields=['rule_id', 'series_key', 'status']), Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': 'One breach of one rule on one series: pending -> active -> resolved.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AlertRule',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(max_length=128)),
                ('description', fields.CharField(default='', max_length=255)),
                ('metric_name', fields.CharField(max_length=128)),
                ('comparison', fields.CharField(max_length=2)),
                ('threshold', fields.FloatField()),
                ('level', fields.CharField(max_length=8)),
                ('enabled', fields.BooleanField(default=True)),
                ('for_seconds', fields.IntField(default=0)),
                ('cooldown_minutes', fields.IntField(default=5)),
                ('tags', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('builtin', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'monitoring_alert_rules', 'app': 'monitoring', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notifier',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharField(max_length=16)),
                ('url_enc', fields.TextField(unique=False)),
                ('url_hint', fields.CharField(max_length=255)),
                ('secret_enc', fields.TextField(null=True, unique=False)),
                ('min_level', fields.CharField(default='info', max_length=8)),
                ('enabled', fields.BooleanField(default=True)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status', fields.CharField(null=True, max_length=16)),
                ('last_error', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'monitoring_notifiers', 'app': 'monitoring', 'pk_attr': 'id', 'table_description': 'Where alerts are sent besides the WebSocket channel and the log (admin-configured).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Point',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('series_id', fields.IntField()),
                ('ts', fields.BigIntField()),
                ('v', fields.FloatField()),
            ],
            options={'table': 'monitoring_points', 'app': 'monitoring', 'indexes': [Index(fields=['series_id', 'ts', 'v']), Index(fields=['ts'])], 'pk_attr': 'id', 'table_description': 'A raw sample, kept ``raw_retention_hours``.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Rollup',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('series_id', fields.IntField()),
                ('res', fields.IntField()),
                ('ts', fields.BigIntField()),
                ('n', fields.IntField()),
                ('total', fields.FloatField()),
                ('vmin', fields.FloatField()),
                ('vmax', fields.FloatField()),
            ],
            options={'table': 'monitoring_rollups', 'app': 'monitoring', 'unique_together': (('series_id', 'res', 'ts'),), 'indexes': [Index(fields=['res', 'ts'])], 'pk_attr': 'id', 'table_description': 'Aggregate of one series over ``[ts, ts + res)``: 60 s from points, 3600 s from minutes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RollupState',
            fields=[
                ('res', fields.IntField(primary_key=True, unique=True, db_index=True)),
                ('done_until', fields.BigIntField(default=0)),
            ],
            options={'table': 'monitoring_rollup_state', 'app': 'monitoring', 'pk_attr': 'res', 'table_description': 'Up to where (exclusive, epoch seconds) the rollups of one resolution are complete.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Series',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key_hash', fields.CharField(unique=True, max_length=40)),
                ('node', fields.CharField(db_index=True, max_length=64)),
                ('name', fields.CharField(db_index=True, max_length=128)),
                ('tags', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('unit', fields.CharField(default='', max_length=16)),
                ('last_seen', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'monitoring_series', 'app': 'monitoring', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Snapshot',
            fields=[
                ('node', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('taken_at', fields.BigIntField()),
                ('payload', fields.TextField(unique=False)),
            ],
            options={'table': 'monitoring_snapshots', 'app': 'monitoring', 'pk_attr': 'node', 'table_description': 'The latest sample of every series of one node, for /metrics, the dashboard and alerts.'},
            bases=['Model'],
        ),
    ]

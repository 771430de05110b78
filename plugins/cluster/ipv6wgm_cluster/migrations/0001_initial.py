from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
import functools
from json import dumps, loads

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='ClusterNode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('node_id', fields.CharField(unique=True, max_length=64)),
                ('host', fields.CharField(max_length=255)),
                ('port', fields.IntField()),
                ('capabilities', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('version', fields.CharField(default='', max_length=32)),
                ('metadata', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('weight', fields.IntField(default=1)),
                ('drained', fields.BooleanField(default=False)),
                ('heartbeat_ms', fields.BigIntField(null=True)),
                ('health_status', fields.CharField(null=True, max_length=16)),
                ('health_detail', fields.CharField(null=True, max_length=255)),
                ('health_checked_ms', fields.BigIntField(null=True)),
                ('offline_since_ms', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'cluster_nodes', 'app': 'cluster', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClusterLease',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('holder', fields.CharField(null=True, max_length=64)),
                ('token', fields.CharField(null=True, max_length=32)),
                ('epoch', fields.BigIntField(default=0)),
                ('expires_ms', fields.BigIntField(default=0)),
                ('acquired_ms', fields.BigIntField(null=True)),
            ],
            options={'table': 'cluster_leases', 'app': 'cluster', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClusterCronTick',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=128)),
                ('tick', fields.BigIntField()),
                ('epoch', fields.BigIntField()),
                ('node_id', fields.CharField(max_length=64)),
                ('ran_ms', fields.BigIntField()),
            ],
            options={'table': 'cluster_cron_ticks', 'app': 'cluster', 'unique_together': (('name', 'tick'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ClusterConfig',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('strategy', fields.CharField(default='round_robin', max_length=32)),
                ('rr_counter', fields.BigIntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'cluster_config', 'app': 'cluster', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

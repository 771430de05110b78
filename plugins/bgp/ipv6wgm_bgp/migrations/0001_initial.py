from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='BgpAnnouncement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('prefix', fields.CharField(unique=True, max_length=64)),
                ('next_hop', fields.CharField(null=True, max_length=64)),
                ('as_path', fields.CharField(default='', max_length=400)),
                ('communities', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('large_communities', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.CharField(null=True, max_length=255)),
                ('enabled', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'bgp_announcements', 'app': 'bgp', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BgpNode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('node_id', fields.CharField(unique=True, max_length=64)),
                ('bird_ok', fields.BooleanField(default=False)),
                ('error', fields.CharField(null=True, max_length=500)),
                ('last_seen', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bgp_nodes', 'app': 'bgp', 'pk_attr': 'id', 'table_description': 'Heartbeat of the BIRD owner, so any process (an API process with Redis too) can tell'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BgpSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('description', fields.CharField(null=True, max_length=255)),
                ('neighbor', fields.CharField(max_length=64)),
                ('remote_as', fields.BigIntField()),
                ('local_as', fields.BigIntField()),
                ('password_enc', fields.TextField(null=True, unique=False)),
                ('source_address', fields.CharField(null=True, max_length=64)),
                ('hold_time', fields.IntField(null=True)),
                ('multihop', fields.IntField(null=True)),
                ('import_limit', fields.BigIntField(null=True)),
                ('import_policy', fields.CharField(default='all', max_length=8)),
                ('enabled', fields.BooleanField(default=True)),
                ('status', fields.CharField(default='idle', max_length=16)),
                ('established_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('routes_received', fields.BigIntField(default=0)),
                ('routes_advertised', fields.BigIntField(default=0)),
                ('last_error', fields.CharField(null=True, max_length=255)),
                ('last_update', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('stopped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'bgp_sessions', 'app': 'bgp', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

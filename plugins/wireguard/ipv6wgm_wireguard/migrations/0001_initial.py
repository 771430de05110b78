from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='WireGuardServer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('interface', fields.CharField(max_length=15)),
                ('node_id', fields.CharField(db_index=True, max_length=64)),
                ('listen_port', fields.IntField()),
                ('ipv4_address', fields.CharField(null=True, max_length=64)),
                ('ipv6_address', fields.CharField(null=True, max_length=64)),
                ('public_key', fields.CharField(max_length=44)),
                ('private_key_enc', fields.TextField(unique=False)),
                ('dns_servers', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('mtu', fields.IntField(null=True)),
                ('endpoint', fields.CharField(null=True, max_length=255)),
                ('persistent_keepalive', fields.IntField(null=True)),
                ('is_active', fields.BooleanField(default=False)),
                ('status', fields.CharField(default='stopped', max_length=16)),
                ('status_detail', fields.CharField(null=True, max_length=512)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('stopped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_v4', fields.BigIntField(default=2)),
                ('next_v6', fields.BigIntField(default=2)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'wireguard_servers', 'app': 'wireguard', 'unique_together': (('node_id', 'interface'), ('node_id', 'listen_port')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WireGuardClient',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('server', fields.ForeignKeyField('wireguard.WireGuardServer', source_field='server_id', db_constraint=True, to_field='id', related_name='clients', on_delete=OnDelete.RESTRICT)),
                ('owner', fields.ForeignKeyField('core.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='wireguard_clients', on_delete=OnDelete.SET_NULL)),
                ('name', fields.CharField(max_length=64)),
                ('description', fields.CharField(null=True, max_length=255)),
                ('ipv4_address', fields.CharField(null=True, max_length=64)),
                ('ipv6_address', fields.CharField(null=True, max_length=64)),
                ('ipv4_index', fields.BigIntField(null=True)),
                ('ipv6_index', fields.BigIntField(null=True)),
                ('public_key', fields.CharField(max_length=44)),
                ('private_key_enc', fields.TextField(null=True, unique=False)),
                ('preshared_key_enc', fields.TextField(null=True, unique=False)),
                ('dns_servers', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('allowed_ips', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('persistent_keepalive', fields.IntField(null=True)),
                ('enabled', fields.BooleanField(default=True)),
                ('quota_bytes', fields.BigIntField(null=True)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ipv6_pool_id', fields.IntField(null=True)),
                ('ipv6_allocation_id', fields.IntField(null=True)),
                ('delegated_prefix', fields.CharField(null=True, max_length=64)),
                ('last_handshake', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('bytes_received', fields.BigIntField(default=0)),
                ('bytes_sent', fields.BigIntField(default=0)),
                ('raw_rx', fields.BigIntField(default=0)),
                ('raw_tx', fields.BigIntField(default=0)),
                ('endpoint_observed', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'wireguard_clients', 'app': 'wireguard', 'unique_together': (('server', 'ipv4_index'), ('server', 'ipv6_index'), ('server', 'public_key'), ('server', 'name')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='ConfigEntry',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('updated_by', fields.IntField(null=True)),
            ],
            options={'table': 'core_config', 'app': 'core', 'pk_attr': 'key'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LogEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('timestamp', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('level', fields.CharField(db_index=True, max_length=10)),
                ('module', fields.CharField(db_index=True, max_length=64)),
                ('message', fields.CharField(max_length=1024)),
                ('action', fields.CharField(null=True, max_length=64)),
                ('user_id', fields.IntField(null=True, db_index=True)),
                ('username', fields.CharField(null=True, max_length=64)),
                ('ip_address', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=255)),
                ('method', fields.CharField(null=True, max_length=8)),
                ('path', fields.CharField(null=True, max_length=255)),
                ('status_code', fields.IntField(null=True)),
                ('node_id', fields.CharField(null=True, max_length=64)),
                ('details', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('stack_trace', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'core_logs', 'app': 'core', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LogExport',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=96)),
                ('user_id', fields.IntField()),
                ('format', fields.CharField(max_length=8)),
                ('file_size', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'core_log_exports', 'app': 'core', 'pk_attr': 'name'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('email', fields.CharField(null=True, unique=True, max_length=254)),
                ('full_name', fields.CharField(null=True, max_length=128)),
                ('password_hash', fields.CharField(max_length=255)),
                ('role', fields.CharField(default='user', db_index=True, max_length=16)),
                ('is_active', fields.BooleanField(default=True)),
                ('last_login', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failed_logins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'core_users', 'app': 'core', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuthSession',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('user', fields.ForeignKeyField('core.User', source_field='user_id', db_constraint=True, to_field='id', related_name='sessions', on_delete=OnDelete.CASCADE)),
                ('refresh_jti', fields.CharField(max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_reason', fields.CharField(null=True, max_length=64)),
                ('ip_address', fields.CharField(null=True, max_length=64)),
                ('user_agent', fields.CharField(null=True, max_length=255)),
            ],
            options={'table': 'core_auth_sessions', 'app': 'core', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

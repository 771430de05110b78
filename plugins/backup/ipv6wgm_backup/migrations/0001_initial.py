from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Archive',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('name', fields.CharField(max_length=128)),
                ('type', fields.CharField(max_length=16)),
                ('status', fields.CharField(default='running', max_length=16)),
                ('origin', fields.CharField(default='created', max_length=16)),
                ('file_name', fields.CharField(max_length=128)),
                ('size_bytes', fields.BigIntField(default=0)),
                ('checksum', fields.CharField(null=True, max_length=64)),
                ('encrypted', fields.BooleanField(default=False)),
                ('error', fields.TextField(null=True, unique=False)),
                ('metadata', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('schedule_id', fields.IntField(null=True, db_index=True)),
                ('created_by', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'backup_archives', 'app': 'backup', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BackupJob',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('kind', fields.CharField(max_length=16)),
                ('archive_id', fields.CharField(db_index=True, max_length=64)),
                ('status', fields.CharField(default='running', max_length=16)),
                ('step', fields.CharField(default='queued', max_length=64)),
                ('progress', fields.IntField(default=0)),
                ('error', fields.TextField(null=True, unique=False)),
                ('result', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'backup_jobs', 'app': 'backup', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Maintenance',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('job_id', fields.CharField(max_length=32)),
                ('reason', fields.CharField(max_length=255)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'backup_maintenance', 'app': 'backup', 'pk_attr': 'id', 'table_description': 'One row per active pause, ignored once it expired.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Schedule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('type', fields.CharField(max_length=8)),
                ('cron', fields.CharField(max_length=128)),
                ('backup_type', fields.CharField(default='full', max_length=16)),
                ('retention', fields.IntField(null=True)),
                ('enabled', fields.BooleanField(default=True)),
                ('last_run', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'backup_schedules', 'app': 'backup', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

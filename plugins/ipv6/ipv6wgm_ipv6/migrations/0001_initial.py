from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Pool',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=64)),
                ('prefix', fields.CharField(max_length=43)),
                ('prefix_length', fields.IntField()),
                ('description', fields.CharField(default='', max_length=255)),
                ('status', fields.CharField(default='active', max_length=16)),
                ('announce', fields.BooleanField(default=False)),
                ('next_hint', fields.BigIntField(default=0)),
                ('allocated_count', fields.BigIntField(default=0)),
                ('quarantined_count', fields.BigIntField(default=0)),
                ('reserved_count', fields.BigIntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'ipv6_pools', 'app': 'ipv6', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Allocation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pool', fields.ForeignKeyField('ipv6.Pool', source_field='pool_id', db_constraint=True, to_field='id', related_name='allocations', on_delete=OnDelete.CASCADE)),
                ('slot', fields.BigIntField()),
                ('prefix', fields.CharField(max_length=43)),
                ('client_name', fields.CharField(max_length=128)),
                ('description', fields.CharField(default='', max_length=255)),
                ('holder', fields.CharField(null=True, db_index=True, max_length=128)),
                ('owner', fields.ForeignKeyField('core.User', source_field='owner_id', null=True, db_constraint=True, to_field='id', related_name='ipv6_allocations', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(default='active', max_length=16)),
                ('allocated_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('released_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('quarantine_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ipv6_allocations', 'app': 'ipv6', 'unique_together': (('pool', 'slot'),), 'indexes': [Index(fields=['pool_id', 'status']), Index(fields=['status', 'quarantine_until'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Reservation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('pool', fields.ForeignKeyField('ipv6.Pool', source_field='pool_id', db_constraint=True, to_field='id', related_name='reservations', on_delete=OnDelete.CASCADE)),
                ('prefix', fields.CharField(max_length=43)),
                ('first_slot', fields.BigIntField()),
                ('last_slot', fields.BigIntField()),
                ('description', fields.CharField(default='', max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ipv6_reservations', 'app': 'ipv6', 'pk_attr': 'id', 'table_description': 'A range of slots never handed out (e.g. the first /64 for the infrastructure).'},
            bases=['Model'],
        ),
    ]

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Note',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('core.User', source_field='owner_id', db_constraint=True, to_field='id', related_name='sample_notes', on_delete=OnDelete.CASCADE)),
                ('text', fields.CharField(max_length=200)),
                ('touched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('touched_by_node', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sample_notes', 'app': 'sample', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

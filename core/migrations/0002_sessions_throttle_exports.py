from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LogExportChunk',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('export', fields.ForeignKeyField('core.LogExport', source_field='export_id', db_constraint=True, to_field='name', related_name='chunks', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('data', fields.TextField(unique=False)),
            ],
            options={'table': 'core_log_export_chunks', 'app': 'core', 'unique_together': (('export', 'seq'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuthSession',
            name='access_gen',
            field=fields.IntField(default=0, db_default=0),
        ),
    ]

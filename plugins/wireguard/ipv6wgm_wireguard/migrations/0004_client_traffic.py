from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('wireguard', '0003_server_endpoint_detected')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WireGuardClientTraffic',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client', fields.ForeignKeyField('wireguard.WireGuardClient', source_field='client_id', db_constraint=True, to_field='id', related_name='traffic', on_delete=OnDelete.CASCADE)),
                ('resolution', fields.IntField()),
                ('bucket', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('bytes_received', fields.BigIntField(default=0)),
                ('bytes_sent', fields.BigIntField(default=0)),
            ],
            options={'table': 'wireguard_client_traffic', 'app': 'wireguard', 'unique_together': (('client', 'resolution', 'bucket'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]

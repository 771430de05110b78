from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('wireguard', '0002_client_disabled_by')]

    initial = False

    operations = [
        ops.AddField(
            model_name='WireGuardServer',
            name='endpoint_detected',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='WireGuardServer',
            name='endpoint_detected_from',
            field=fields.CharField(null=True, max_length=128),
        ),
    ]

# The instant lookup (kenal.lookup) finds an order by its number from any source; the unique
# (source, order_number) constraint cannot serve a lookup by number alone.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('activity', '0003_interactions_tickets_services_feedback_events_traits'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['order_number'], name='order_number_lookup'),
        ),
    ]

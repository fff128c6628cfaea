from django.db import migrations

from fangkong.core.search import substring_index_operation


class Migration(migrations.Migration):
    dependencies = [("org", "0001_initial")]

    operations = [
        substring_index_operation("org_person"),
        substring_index_operation("org_household"),
    ]

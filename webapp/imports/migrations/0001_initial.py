# ImportJob moved here from the papers app. State only: the table (papers_importjob) stays as it
# is, so existing databases keep their rows; papers.0002 removes the model from that app's state.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('papers', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('path', models.CharField(help_text='file on the server (uploads are stored in DATA_DIR)', max_length=1000)),
                        ('filename', models.CharField(help_text='the name the user knows the file by', max_length=300)),
                        ('format', models.CharField(blank=True, help_text='empty: detected from the content', max_length=20)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('indexing', 'Indexing'), ('done', 'Done'), ('failed', 'Failed')], db_index=True, default='queued', max_length=20)),
                        ('error', models.TextField(blank=True, help_text='why the whole job failed, if it did')),
                        ('done', models.PositiveIntegerField(default=0, help_text='records read and committed')),
                        ('total', models.PositiveIntegerField(default=0)),
                        ('created', models.PositiveIntegerField(default=0)),
                        ('updated', models.PositiveIntegerField(default=0)),
                        ('skipped', models.PositiveIntegerField(default=0)),
                        ('failed', models.PositiveIntegerField(default=0)),
                        ('failures', models.JSONField(blank=True, default=list, help_text='[{"location": ..., "reason": ...}]')),
                        ('index_done', models.PositiveIntegerField(default=0)),
                        ('index_total', models.PositiveIntegerField(default=0)),
                        ('claim', models.CharField(blank=True, max_length=64)),
                        ('heartbeat', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='import_jobs', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-created_at'],
                        'db_table': 'papers_importjob',
                    },
                ),
            ],
        ),
    ]

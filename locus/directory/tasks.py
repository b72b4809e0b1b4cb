from django.tasks import task

from locus.core.models import Job
from locus.core.services import job_language
from locus.core.tasks import in_place, job_task

from .hsds.apply import IMPORT_JOB as HSDS_IMPORT_JOB


@job_task(HSDS_IMPORT_JOB)
@task()
@in_place
def run_hsds_import(*, place, job_id):
    from .hsds.apply import hsds_import_job_run

    job = Job.objects.get(pk=job_id, place=place)
    with job_language(job=job, place=place):
        hsds_import_job_run(place=place, job=job)


@task()
@in_place
def send_directory_reminders(*, place):
    from django.conf import settings

    from .services import directory_send_reminders

    directory_send_reminders(place=place, base_url=getattr(settings, "LOCUS_BASE_URL", ""))

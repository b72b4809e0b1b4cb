from django.tasks import task

from locus.core.models import Job
from locus.core.services import job_language
from locus.core.tasks import in_place, job_task

from .indicator_services import INDICATOR_IMPORT_JOB
from .services import AREA_IMPORT_JOB


@job_task(AREA_IMPORT_JOB)
@task()
@in_place
def run_area_import(*, place, job_id):
    from .services import area_import_job_run

    job = Job.objects.get(pk=job_id, place=place)
    with job_language(job=job, place=place):
        area_import_job_run(place=place, job=job)


@job_task(INDICATOR_IMPORT_JOB)
@task()
@in_place
def run_indicator_import(*, place, job_id):
    from .indicator_services import indicator_import_job_run

    job = Job.objects.get(pk=job_id, place=place)
    with job_language(job=job, place=place):
        indicator_import_job_run(place=place, job=job)

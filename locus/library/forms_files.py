"""The upload form of a record's files. The checks that matter (type by content, size, the
same file twice) are the service's (files.file_add); the view puts its errors on the field."""

from django import forms
from django.utils.translation import gettext_lazy as _


class FileUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Document"),
        help_text=_("A PDF or a plain-text file (UTF-8). Its text is read for the search."),
        error_messages={
            "required": _("Choose a file to upload."),
            "empty": _("The file is empty."),
        },
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.txt,application/pdf,text/plain"}),
    )

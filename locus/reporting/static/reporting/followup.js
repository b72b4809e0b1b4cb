// The follow-up page: changing language with the header's switcher keeps what was typed.
// The switcher's button sends the page's language form (#followup-language, action
// "language"), which the server answers with the page again in the new language, the report
// still open. Just before it goes, the texts written but not sent (a message to an
// organisation, an addition) and the token of the files already added are copied into it, so
// they come back filled in. Without JavaScript the language changes and the report stays
// open, but unsent text is not carried.
(function () {
  "use strict";
  var form = document.getElementById("followup-language");
  if (!form) return;
  form.addEventListener("submit", function () {
    var carried = document.querySelectorAll(
      "textarea[name^='thread-'], textarea[name='add-text'], input[name='add-staged_token']"
    );
    Array.prototype.forEach.call(carried, function (field) {
      if (field.form === form || !field.value) return;
      var copy = document.createElement("input");
      copy.type = "hidden";
      copy.name = field.name;
      copy.value = field.value;
      form.appendChild(copy);
    });
  });
})();

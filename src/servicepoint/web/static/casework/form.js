// Online application forms: instant feedback from the same JSONLogic conditions the server
// decides with (vendor/json-logic/logic.js must load first). Without this script the step page
// still works: the server shows and checks every field after each post.
//
// Page contract (the step templates of casework/pages.py):
//   <script type="application/json" id="casework-values">{...}</script>  every answer so far
//   <form data-casework-form>
//     <div data-field="NAME" data-type="TYPE" data-show-if='JSON' data-required-if='JSON'>
//       the field's inputs (name="NAME"), label, help, error ...
//     </div>
//   </form>
// TYPE is the form file's field type (text, textarea, email, date, integer, choice,
// multichoice, boolean); without it the type is guessed from the inputs.
//
// The values are read as the server reads a post (casework/logic.py read_value): text trimmed,
// empty → null; integer → number, null if empty or not a whole number within min/max; date →
// "YYYY-MM-DD" (12.08.1964 too), null if invalid or outside min/max; choice → the chosen value
// or null; multichoice → the ticked values; boolean → true/false. A hidden field's inputs are
// disabled, so the browser does not send them, and count as not sent (null, [] or false).
(function () {
  "use strict";

  var INTEGER = /^[+-]?\d{1,10}$/;
  var ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
  var GERMAN_DAY = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/;
  var MARK = "data-casework-disabled"; // inputs this script disabled (and may enable again)

  function logic() {
    return window.jsonLogic;
  }

  function evaluate(rule, data) {
    return logic().apply(rule, data);
  }

  function truthy(value) {
    return logic().truthy(value);
  }

  function parseRule(text) {
    if (text === null) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      return null; // a broken attribute hides nothing; the server still decides
    }
  }

  function inputsOf(wrapper) {
    return Array.prototype.slice.call(wrapper.querySelectorAll("input, select, textarea"))
      .filter(function (el) {
        return el.type !== "hidden" && el.type !== "file" && el.type !== "submit" && el.type !== "button";
      });
  }

  function typeOf(wrapper, inputs) {
    var declared = wrapper.getAttribute("data-type");
    if (declared) return declared;
    var first = inputs[0];
    if (!first) return "text";
    if (first.type === "checkbox") {
      var plain = inputs.length === 1 && ["on", "true", "1", "yes"].indexOf(first.value) !== -1;
      return plain ? "boolean" : "multichoice";
    }
    if (first.type === "radio" || first.tagName === "SELECT") return "choice";
    if (first.type === "number") return "integer";
    if (first.type === "date") return "date";
    if (first.type === "email") return "email";
    return "text";
  }

  function bound(el, name) {
    var raw = el.getAttribute(name);
    return raw === null || raw === "" ? null : raw;
  }

  function readText(el) {
    var text = String(el.value || "").trim();
    if (!text) return null;
    var min = bound(el, "minlength");
    var max = bound(el, "maxlength");
    var pattern = bound(el, "pattern");
    if (max !== null && text.length > Number(max)) return null;
    if (min !== null && text.length < Number(min)) return null;
    if (pattern !== null && !new RegExp("^(?:" + pattern + ")$").test(text)) return null;
    return text;
  }

  function readEmail(el) {
    var text = readText(el);
    if (text === null || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text)) return null;
    var at = text.lastIndexOf("@");
    return text.slice(0, at + 1) + text.slice(at + 1).toLowerCase();
  }

  function readInteger(el) {
    var text = String(el.value || "").trim();
    if (!INTEGER.test(text)) return null;
    var number = parseInt(text, 10);
    var min = bound(el, "min");
    var max = bound(el, "max");
    if (min !== null && number < Number(min)) return null;
    if (max !== null && number > Number(max)) return null;
    return number;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function isoDay(text) {
    var m = ISO_DAY.exec(text);
    var year, month, day;
    if (m) {
      year = +m[1]; month = +m[2]; day = +m[3];
    } else if ((m = GERMAN_DAY.exec(text))) {
      year = +m[3]; month = +m[2]; day = +m[1];
    } else {
      return null;
    }
    var date = new Date(Date.UTC(year, month - 1, day));
    if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
      return null; // 31.02. and the like
    }
    return year + "-" + pad(month) + "-" + pad(day);
  }

  function readDate(el) {
    var day = isoDay(String(el.value || "").trim().slice(0, 20));
    if (day === null || day < "1900-01-01" || day > "2100-12-31") return null;
    var min = bound(el, "min");
    var max = bound(el, "max");
    if ((min !== null && day < min) || (max !== null && day > max)) return null;
    return day;
  }

  function readChoice(inputs) {
    for (var i = 0; i < inputs.length; i++) {
      var el = inputs[i];
      if (el.tagName === "SELECT") return el.value === "" ? null : el.value;
      if (el.checked) return el.value === "" ? null : el.value;
    }
    return null;
  }

  function readValue(type, inputs) {
    if (type === "multichoice") {
      return inputs.filter(function (el) { return el.checked; }).map(function (el) { return el.value; });
    }
    if (type === "boolean") return inputs.some(function (el) { return el.checked; });
    if (type === "choice") return readChoice(inputs);
    if (!inputs[0]) return null;
    if (type === "integer") return readInteger(inputs[0]);
    if (type === "date") return readDate(inputs[0]);
    if (type === "email") return readEmail(inputs[0]);
    return readText(inputs[0]);
  }

  function notSent(type) {
    if (type === "multichoice") return [];
    if (type === "boolean") return false;
    return null;
  }

  function embedded() {
    var script = document.getElementById("casework-values");
    if (!script) return {};
    try {
      var values = JSON.parse(script.textContent || "{}");
      return values && typeof values === "object" && !Array.isArray(values) ? values : {};
    } catch (e) {
      return {};
    }
  }

  function fieldsOf(form) {
    return Array.prototype.slice.call(form.querySelectorAll("[data-field]")).map(function (wrapper) {
      var inputs = inputsOf(wrapper);
      return {
        name: wrapper.getAttribute("data-field"),
        wrapper: wrapper,
        inputs: inputs,
        type: typeOf(wrapper, inputs),
        showIf: parseRule(wrapper.getAttribute("data-show-if")),
        requiredIf: parseRule(wrapper.getAttribute("data-required-if")),
      };
    });
  }

  function collect(fields, hidden) {
    var values = embedded();
    fields.forEach(function (f) {
      values[f.name] = hidden[f.name] ? notSent(f.type) : readValue(f.type, f.inputs);
    });
    return values;
  }

  // The shown fields decide what is sent, and what is sent decides what is shown: settle on a
  // state where both agree, which is what the server sees when the form is posted.
  function settle(form) {
    var fields = fieldsOf(form);
    var hidden = {};
    var values = collect(fields, hidden);
    for (var round = 0; round <= fields.length; round++) {
      var next = {};
      var changed = false;
      fields.forEach(function (f) {
        next[f.name] = f.showIf !== null && !truthy(evaluate(f.showIf, values));
        if (next[f.name] !== !!hidden[f.name]) changed = true;
      });
      hidden = next;
      values = collect(fields, hidden);
      if (!changed) break;
    }
    return { fields: fields, hidden: hidden, values: values };
  }

  var NATIVE_REQUIRED = ["INPUT", "SELECT", "TEXTAREA"];
  var ARIA_REQUIRED = { text: 1, textarea: 1, email: 1, date: 1, integer: 1 };

  function setRequired(field, required) {
    if (field.requiredIf === null) return; // always or never required: the server's markup
    field.wrapper.toggleAttribute("data-required", required);
    field.inputs.forEach(function (el) {
      if (field.type === "multichoice" || NATIVE_REQUIRED.indexOf(el.tagName) === -1) return;
      el.required = required;
      if (ARIA_REQUIRED[field.type] || el.tagName === "SELECT") {
        el.setAttribute("aria-required", required ? "true" : "false");
      }
    });
    var marks = field.wrapper.querySelectorAll("[data-required-mark]");
    Array.prototype.forEach.call(marks, function (mark) { mark.hidden = !required; });
  }

  function setHidden(field, hide) {
    field.wrapper.hidden = hide;
    field.inputs.forEach(function (el) {
      if (hide && !el.disabled) {
        el.disabled = true;
        el.setAttribute(MARK, "");
      } else if (!hide && el.hasAttribute(MARK)) {
        el.disabled = false;
        el.removeAttribute(MARK);
      }
    });
  }

  function refresh(form) {
    var state = settle(form);
    state.fields.forEach(function (f) {
      setHidden(f, state.hidden[f.name]);
      var required = !state.hidden[f.name] && f.requiredIf !== null && truthy(evaluate(f.requiredIf, state.values));
      setRequired(f, required);
    });
    return state.values;
  }

  function values(form) {
    return settle(form).values;
  }

  window.servicepointCasework = { values: values, evaluate: evaluate, refresh: refresh };

  function start() {
    if (!logic()) return; // the rules library did not load: the server-only form still works
    var forms = document.querySelectorAll("form[data-casework-form]");
    Array.prototype.forEach.call(forms, function (form) {
      var update = function () { refresh(form); };
      form.addEventListener("input", update);
      form.addEventListener("change", update);
      update();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();

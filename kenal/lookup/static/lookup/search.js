/* The global search box in the header (kenal.lookup).
 *
 * "/" (outside a text field) or Ctrl/Cmd+K focuses it; htmx fills #global-search-results as
 * one types; ArrowDown/ArrowUp choose a result, Enter opens it (or, with none chosen, submits
 * the form to the results page), Escape closes the list, then leaves the box.
 */
(function () {
  "use strict";

  var input = document.getElementById("global-search");
  var list = document.getElementById("global-search-results");
  if (!input || !list) {
    return;
  }
  var active = -1;

  function options() {
    return Array.prototype.slice.call(list.querySelectorAll("a[role='option']"));
  }

  function isOpen() {
    return !list.hidden;
  }

  function setOpen(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) {
      choose(-1);
    }
  }

  function choose(index) {
    var items = options();
    items.forEach(function (item, position) {
      var chosen = position === index;
      item.setAttribute("aria-selected", chosen ? "true" : "false");
      item.classList.toggle("is-active", chosen);
    });
    active = index >= 0 && index < items.length ? index : -1;
    if (active >= 0) {
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function hasContent() {
    return options().length > 0 || list.querySelector("[data-empty]") !== null;
  }

  function move(step) {
    var items = options();
    if (!items.length) {
      return;
    }
    if (!isOpen()) {
      setOpen(true);
    }
    var next = active + step;
    if (next < 0) {
      next = items.length - 1;
    } else if (next >= items.length) {
      next = 0;
    }
    choose(next);
  }

  function typingIn(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toUpperCase();
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  document.addEventListener("keydown", function (event) {
    var commandK = (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === "k" || event.key === "K");
    var slash = event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey && !typingIn(event.target);
    if (commandK || slash) {
      event.preventDefault();
      input.focus();
      input.select();
      if (hasContent()) {
        setOpen(true);
      }
    }
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter" && isOpen() && active >= 0) {
      event.preventDefault();
      window.location.assign(options()[active].href);
    } else if (event.key === "Escape") {
      event.preventDefault();
      if (isOpen()) {
        setOpen(false);
      } else {
        input.blur();
      }
    }
  });

  input.addEventListener("focus", function () {
    if (input.value.trim() && hasContent()) {
      setOpen(true);
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target === list) {
      active = -1;
      setOpen(input.value.trim() !== "" && hasContent());
    }
  });

  document.addEventListener("click", function (event) {
    if (isOpen() && !input.form.contains(event.target)) {
      setOpen(false);
    }
  });

  // A result chosen with the mouse becomes the active one, so the keys continue from there.
  list.addEventListener("mousemove", function (event) {
    var item = event.target.closest ? event.target.closest("a[role='option']") : null;
    if (item) {
      choose(options().indexOf(item));
    }
  });
})();

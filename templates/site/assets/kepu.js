/* Large-text switch for older readers: one button in the header, remembered
   across pages in localStorage. The class is applied before first paint by the
   inline script in overrides/main.html, so pages do not jump. */
(function () {
  "use strict";
  var KEY = "kepu-large-text";

  function isLarge() {
    try {
      return window.localStorage.getItem(KEY) === "1";
    } catch (e) {
      return false;
    }
  }

  function apply(large) {
    document.documentElement.classList.toggle("kepu-large", large);
    var button = document.querySelector(".kepu-text-size");
    if (button) {
      button.setAttribute("aria-pressed", large ? "true" : "false");
      button.textContent = large ? "标准字" : "大字";
      button.title = large ? "恢复标准字号" : "放大字号，方便阅读";
    }
  }

  function addButton() {
    if (document.querySelector(".kepu-text-size")) return;
    var header = document.querySelector(".md-header__inner");
    if (!header) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "kepu-text-size";
    button.addEventListener("click", function () {
      var large = !document.documentElement.classList.contains("kepu-large");
      try {
        window.localStorage.setItem(KEY, large ? "1" : "0");
      } catch (e) {
        /* private mode: the switch still works for this page */
      }
      apply(large);
    });
    var search = header.querySelector(".md-search");
    header.insertBefore(button, search || null);
    apply(isLarge());
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", addButton);
  } else {
    addButton();
  }
})();

/* Interactive quizzes: check each question, show right or wrong with its
   explanation, score at the end, try again. Works offline: the answers are in
   the page (data-answer), nothing is sent anywhere. */
(function () {
  "use strict";

  function chosen(fieldset) {
    return Array.prototype.filter
      .call(fieldset.querySelectorAll("input"), function (input) { return input.checked; })
      .map(function (input) { return input.value; });
  }

  function mark(label, text) {
    var span = label.querySelector(".kepu-mark");
    if (!text) {
      if (span) span.parentNode.removeChild(span);
      return;
    }
    if (!span) {
      span = document.createElement("span");
      span.className = "kepu-mark";
      label.appendChild(span);
    }
    span.textContent = text;
  }

  function check(fieldset) {
    var picked = chosen(fieldset);
    var feedback = fieldset.querySelector(".kepu-feedback");
    if (picked.length === 0) {
      feedback.textContent = "请先选择答案。";
      feedback.className = "kepu-feedback kepu-feedback--empty";
      return null;
    }
    var answer = fieldset.getAttribute("data-answer").trim().split(/\s+/);
    // Multiple choice counts only when exactly the correct set is chosen.
    var right = picked.length === answer.length && picked.every(function (v) { return answer.indexOf(v) >= 0; });
    fieldset.setAttribute("data-result", right ? "right" : "wrong");
    feedback.textContent = right ? "✔ 回答正确！" : "✘ 回答错误。";
    feedback.className = "kepu-feedback kepu-feedback--" + (right ? "right" : "wrong");
    Array.prototype.forEach.call(fieldset.querySelectorAll(".kepu-option"), function (label) {
      var input = label.querySelector("input");
      var correct = answer.indexOf(input.value) >= 0;
      label.classList.toggle("kepu-option--correct", correct);
      label.classList.toggle("kepu-option--missed", input.checked && !correct);
      // Said in words, not by colour alone: which option is right, which wrong choice was the reader's.
      mark(label, correct ? (input.checked ? "✓ 你的选择，正确" : "✓ 正确答案") : input.checked ? "✗ 你的选择，错误" : "");
    });
    fieldset.querySelector(".kepu-explanation").hidden = false;
    return right;
  }

  function updateScore(form) {
    var questions = form.querySelectorAll(".kepu-question");
    var done = form.querySelectorAll(".kepu-question[data-result]");
    var right = form.querySelectorAll('.kepu-question[data-result="right"]').length;
    var score = form.querySelector(".kepu-score");
    if (done.length < questions.length) {
      score.textContent = "已完成 " + done.length + " / " + questions.length + " 题";
      return;
    }
    var percent = Math.round((right / questions.length) * 100);
    score.textContent = "得分：" + percent + " 分（答对 " + right + " / " + questions.length + " 题）" +
      (percent >= 80 ? "，真棒！" : "，再看看课程，然后再做一次吧。");
    score.classList.add("kepu-score--final");
  }

  function setup(form) {
    form.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.classList.contains("kepu-check")) {
        check(button.closest(".kepu-question"));
        updateScore(form);
      } else if (button.classList.contains("kepu-check-all")) {
        Array.prototype.forEach.call(form.querySelectorAll(".kepu-question"), check);
        updateScore(form);
      }
    });
    form.addEventListener("reset", function () {
      Array.prototype.forEach.call(form.querySelectorAll(".kepu-question"), function (fieldset) {
        fieldset.removeAttribute("data-result");
        fieldset.querySelector(".kepu-feedback").textContent = "";
        fieldset.querySelector(".kepu-explanation").hidden = true;
        Array.prototype.forEach.call(fieldset.querySelectorAll(".kepu-option"), function (label) {
          label.classList.remove("kepu-option--correct", "kepu-option--missed");
          mark(label, "");
        });
      });
      var score = form.querySelector(".kepu-score");
      score.textContent = "";
      score.classList.remove("kepu-score--final");
      form.querySelector(".kepu-question input").focus();
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-kepu-quiz]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();

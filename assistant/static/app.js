// The app's own behaviour in the browser, loaded from the app (no inline script, no CDN):
// copy buttons, source passages scrolled to their highlight, the answer brought into view on
// a phone, and a clear message when the server has gone away.

const PHONE = window.matchMedia("(max-width: 640px)");
const OFFLINE_MESSAGE =
  "The app's server is not answering. Check that `iga serve` is still running (start it " +
  "again if not), then reload this page: your conversation is kept in this browser.";

// Copy: a button with data-copy (or, in the chat, whose sanitiser keeps only a button's value:
// class iga-copy-answer and value) puts that text on the clipboard.
async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Served over plain http to another machine: the clipboard API is not there.
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "iga-offscreen";
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy], button.iga-copy-answer");
  if (!button) return;
  event.preventDefault();
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  try {
    await copyText(button.dataset.copy ?? button.value);
    button.textContent = "Copied";
  } catch (error) {
    button.textContent = "Copy failed: select the text instead";
  }
  setTimeout(() => { button.textContent = label; }, 2000);
});

// Each source passage opens scrolled to its first highlighted sentence.
function scrollPassages(root) {
  for (const box of root.querySelectorAll(".iga-passage:not([data-scrolled])")) {
    const mark = box.querySelector("mark");
    if (!mark || box.clientHeight === 0) continue;
    box.scrollTop = Math.max(0, mark.offsetTop - 8);
    box.dataset.scrolled = "true";
  }
}

// On a phone, bring a new answer into view when it arrives (its sources follow it).
let answersSeen = null;
function showNewAnswer() {
  const answers = [...document.querySelectorAll("#iga-chat .bot-row")].filter(
    (row) => row.querySelector(".iga-copy-answer"),
  );
  if (answersSeen !== null && answers.length > answersSeen && PHONE.matches) {
    answers[answers.length - 1].scrollIntoView({ block: "start" });
  }
  answersSeen = answers.length;
}

new MutationObserver(() => {
  scrollPassages(document);
  showNewAnswer();
}).observe(document.documentElement, { childList: true, subtree: true, attributes: false });

// A question sent to a server that has stopped would wait for ever: check, and say so.
function offlineBanner(show) {
  let banner = document.getElementById("iga-offline");
  if (!banner && show) {
    banner = document.createElement("div");
    banner.id = "iga-offline";
    banner.className = "iga-offline";
    banner.setAttribute("role", "alert");
    banner.textContent = OFFLINE_MESSAGE;
    document.body.prepend(banner);
  }
  if (banner) banner.hidden = !show;
}

async function checkServer() {
  try {
    const response = await fetch("health", { cache: "no-store" });
    offlineBanner(!response.ok);
  } catch (error) {
    offlineBanner(true);
  }
}

function answering() {
  const ask = document.querySelector("#iga-ask");
  return ask !== null && ask.disabled;
}

document.addEventListener("click", (event) => {
  if (event.target.closest("#iga-ask")) checkServer();
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.closest("#iga-question")) checkServer();
});
setInterval(() => { if (answering()) checkServer(); }, 3000);
window.addEventListener("offline", () => offlineBanner(true));

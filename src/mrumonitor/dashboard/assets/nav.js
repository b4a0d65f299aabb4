/* mrumonitor dashboard: the top bar's small behaviours (served from /assets, no inline script).
 * - On a narrow screen the navigation folds behind the menu button: the button unfolds it, a link folds it again.
 * - The language switch goes back to the page shown: Dash builds the top bar on its layout request, which
 *   does not know the page, so the link pressed gets it here. */
document.addEventListener("click", function (event) {
  var button = event.target.closest("#menu-button");
  var nav = document.getElementById("main-nav");
  if (button && nav) {
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
    return;
  }
  if (nav && event.target.closest("#main-nav a")) {
    nav.classList.remove("open");
    var menu = document.getElementById("menu-button");
    if (menu) { menu.setAttribute("aria-expanded", "false"); }
    return;
  }
  var language = event.target.closest("a.language-link");
  if (language) {
    var target = new URL(language.getAttribute("href"), window.location.href);
    target.searchParams.set("next", window.location.pathname + window.location.search);
    language.setAttribute("href", target.pathname + target.search);
  }
});

// Sets the dark class on <html> before the app loads (see src/lib/theme.ts,
// which owns the same storage key and keeps it in sync afterwards).
(function () {
  var choice = 'system';
  try {
    choice = localStorage.getItem('sbems.theme') || 'system';
  } catch (e) {
    /* storage disabled: follow the system */
  }
  var dark =
    choice === 'dark' ||
    (choice !== 'light' && window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
  if (dark) document.documentElement.classList.add('dark');
})();

// The window: holds no secret, calls the app's commands, renders view models.
const { invoke } = window.__TAURI__.core;

async function render() {
  const view = await invoke('app_state');
  document.getElementById('version').textContent = `Kakao Sign-in ${view.version}`;
  for (const s of document.querySelectorAll('.screen')) {
    s.hidden = s.dataset.screen !== view.screen;
  }
}

render().catch((e) => {
  document.getElementById('screen-loading').textContent = String(e && e.message ? e.message : e);
});

/**
 * The component's styles. Theme it from the page with CSS custom properties on `aigc-mint` (or any ancestor):
 * --aigc-bg, --aigc-fg, --aigc-muted, --aigc-accent, --aigc-accent-fg, --aigc-border, --aigc-danger, --aigc-ok,
 * --aigc-radius, --aigc-font.
 */
export const STYLES = `
:host { display: block; font-family: var(--aigc-font, system-ui, -apple-system, "Segoe UI", sans-serif); color: var(--aigc-fg, #16181d);
  --_bg: var(--aigc-bg, #ffffff); --_muted: var(--aigc-muted, #4d5562); --_accent: var(--aigc-accent, #3b3bd1);
  --_accent-fg: var(--aigc-accent-fg, #ffffff); --_border: var(--aigc-border, #d4d8df); --_danger: var(--aigc-danger, #b42318);
  --_ok: var(--aigc-ok, #0f7a3d); --_radius: var(--aigc-radius, 12px); max-width: 34rem; min-width: 0; }
* { box-sizing: border-box; }
.card { background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius); padding: 1rem; display: grid; gap: .9rem; }
header { display: grid; gap: .75rem; align-items: center; }
header.with-image { grid-template-columns: auto 1fr; }
header img { width: 56px; height: 56px; border-radius: calc(var(--_radius) / 2); object-fit: cover; }
h2 { font-size: 1.2rem; margin: 0; line-height: 1.25; overflow-wrap: anywhere; }
h3 { font-size: 1rem; margin: 0 0 .35rem; }
p { margin: 0; line-height: 1.45; }
.muted { color: var(--_muted); font-size: .9rem; }
.meta { display: flex; flex-wrap: wrap; gap: .25rem .9rem; font-size: .9rem; color: var(--_muted); margin: 0; padding: 0; list-style: none; }
.meta strong { color: var(--aigc-fg, #16181d); }
button, .button { font: inherit; font-weight: 600; border-radius: calc(var(--_radius) * .66); padding: .6rem 1rem; cursor: pointer;
  border: 1px solid var(--_accent); background: var(--_accent); color: var(--_accent-fg); text-decoration: none; display: inline-block; min-height: 44px; }
button.secondary, .button.secondary { background: transparent; color: var(--_accent); }
button:disabled { opacity: .55; cursor: not-allowed; }
button:focus-visible, a:focus-visible, textarea:focus-visible, input:focus-visible + span, summary:focus-visible, [tabindex="-1"]:focus-visible {
  outline: 3px solid var(--_accent); outline-offset: 2px; }
a { color: var(--_accent); }
.wallet { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; justify-content: space-between; }
.wallets { display: grid; gap: .5rem; margin: 0; padding: 0; list-style: none; }
.wallets button { width: 100%; display: flex; gap: .5rem; align-items: center; justify-content: flex-start; }
.wallets img { width: 24px; height: 24px; }
form { display: grid; gap: .6rem; }
label { font-weight: 600; }
textarea { font: inherit; width: 100%; min-height: 5.5rem; resize: vertical; padding: .6rem; border-radius: calc(var(--_radius) * .66);
  border: 1px solid var(--_border); background: var(--_bg); color: inherit; }
textarea[aria-invalid="true"] { border-color: var(--_danger); }
.count[data-over="true"] { color: var(--_danger); font-weight: 600; }
.field-error { color: var(--_danger); font-size: .9rem; font-weight: 600; }
fieldset { border: 0; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .4rem; }
legend { font-weight: 600; margin-bottom: .35rem; padding: 0; }
.preset { position: relative; }
.preset input { position: absolute; opacity: 0; width: 1px; height: 1px; }
.preset span { display: inline-block; padding: .35rem .75rem; border: 1px solid var(--_border); border-radius: 999px; cursor: pointer; font-size: .9rem; }
.preset input:checked + span { border-color: var(--_accent); background: var(--_accent); color: var(--_accent-fg); }
.cost { font-size: .9rem; color: var(--_muted); }
.submit { width: 100%; }
.panel { border: 1px solid var(--_border); border-radius: calc(var(--_radius) * .66); padding: .8rem; display: grid; gap: .6rem; }
.panel[hidden], [hidden] { display: none !important; }
.problem { border-color: var(--_danger); }
.problem h3 { color: var(--_danger); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; }
ol.steps { list-style: none; margin: 0; padding: 0; display: grid; grid-template-columns: repeat(4, 1fr); gap: .35rem; }
ol.steps li { font-size: .85rem; text-align: center; padding-top: .5rem; border-top: 4px solid var(--_border); color: var(--_muted); }
ol.steps li[data-step="done"] { border-color: var(--_ok); color: var(--aigc-fg, #16181d); }
ol.steps li[data-step="current"] { border-color: var(--_accent); color: var(--aigc-fg, #16181d); font-weight: 700; }
.result img.art { width: 100%; height: auto; border-radius: calc(var(--_radius) * .66); display: block; background: var(--_border); }
.badge { display: inline-flex; gap: .35rem; align-items: center; border-radius: 999px; padding: .35rem .8rem; min-height: 36px;
  border: 1px solid var(--_ok); background: transparent; color: var(--_ok); font-size: .9rem; }
.badge[data-ok="false"] { border-color: var(--_danger); color: var(--_danger); }
ul.checks { margin: 0; padding-left: 1.1rem; font-size: .88rem; display: grid; gap: .25rem; }
ul.checks li[data-ok="false"] { color: var(--_danger); }
details summary { cursor: pointer; font-weight: 600; min-height: 32px; }
ul.tokens { list-style: none; padding: 0; margin: .5rem 0 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(96px, 1fr)); gap: .5rem; }
ul.tokens img { width: 100%; aspect-ratio: 1; object-fit: cover; border-radius: 6px; background: var(--_border); }
ul.pending { padding-left: 1.1rem; margin: .5rem 0 0; display: grid; gap: .4rem; font-size: .9rem; }
.spinner { display: inline-block; width: 1em; height: 1em; border: 2px solid currentColor; border-right-color: transparent; border-radius: 50%;
  animation: spin .8s linear infinite; vertical-align: -2px; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

"""The report page's stylesheet and script: static text, inlined into every report."""

STYLE = """
:root{--bg:#f3f4f7;--card:#fff;--ink:#1c2230;--soft:#5d6675;--line:#e1e4ea;--accent:#ff2e6a;
--ok:#17803d;--bad:#cf2331;--warn:#a86400;--info:#2b59c3;--code:#f5f6f9;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,
"Noto Sans CJK JP",sans-serif;color:var(--ink);background:var(--bg);line-height:1.45}
*{box-sizing:border-box}body{margin:0}
main{max-width:1280px;margin:0 auto;padding:20px 16px 40px}
code,pre,kbd{font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,
monospace;font-size:.88em}
a{color:var(--info)}
.summary{background:var(--card);border:1px solid var(--line);border-radius:14px;
padding:20px 22px;margin-bottom:20px;box-shadow:0 1px 2px rgba(20,30,50,.05);
border-top:6px solid var(--soft)}
.status-success{border-top-color:var(--ok)}.status-failed,.status-environment_error,
.status-bad_input{border-top-color:var(--bad)}.status-stopped{border-top-color:var(--warn)}
.kicker{margin:0;color:var(--soft);font-size:.78rem;letter-spacing:.08em;text-transform:uppercase}
h1{margin:2px 0 4px;font-size:1.6rem;line-height:1.2;overflow-wrap:anywhere}
.goal{margin:0;color:var(--soft);font-size:1rem;overflow-wrap:anywhere}
.verdict{display:flex;flex-wrap:wrap;align-items:center;gap:8px 12px;margin:14px 0}
.status{font-weight:700;padding:3px 12px;border-radius:999px;color:#fff;background:var(--soft)}
.status-success .status{background:var(--ok)}.status-failed .status,
.status-environment_error .status,.status-bad_input .status{background:var(--bad)}
.status-stopped .status{background:var(--warn)}
.reason{flex:1 1 320px;overflow-wrap:anywhere}
.went-wrong{font-weight:600;color:var(--bad);text-decoration:none;border:1px solid currentColor;
padding:3px 10px;border-radius:8px;white-space:nowrap}
.went-wrong:hover{background:#fdecee}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;
margin:0 0 6px}
.facts div{background:var(--code);border-radius:10px;padding:8px 12px;min-width:0}
dt{color:var(--soft);font-size:.74rem;text-transform:uppercase;letter-spacing:.06em}
dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.block{margin-top:14px}.block h3,.setup summary{font-size:.95rem;margin:0 0 6px}
.checks,.setup ul,.actions,.notes{list-style:none;margin:0;padding:0}
.checks li{display:flex;gap:8px;padding:3px 0;overflow-wrap:anywhere}
.mark{font-weight:700;width:1.1em;flex:none}.pass .mark{color:var(--ok)}
.fail .mark{color:var(--bad)}
.fail{color:var(--bad)}.detail{color:var(--soft)}
.setup summary{cursor:pointer}.setup li{padding:2px 0;overflow-wrap:anywhere}
.strip{display:flex;flex-wrap:wrap;gap:3px;margin-top:16px}
.tick{width:12px;height:12px;border-radius:3px;background:#c9d6ea}
.tick:hover{background:var(--info)}.tick.warn{background:#f0b44c}.tick.bad{background:var(--bad)}
.tick.now{outline:2px solid var(--bad);outline-offset:1px}
.step{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:18px;
background:var(--card);border:1px solid var(--line);border-radius:14px;padding:14px;
margin-bottom:16px;box-shadow:0 1px 2px rgba(20,30,50,.05);scroll-margin-top:12px}
.step.wide{grid-template-columns:minmax(0,1fr)}
.step.has-rejected{border-left:5px solid #f0b44c}.step.has-failed{border-left:5px solid var(--bad)}
.step.failing{border:2px solid var(--bad);box-shadow:0 0 0 4px rgba(207,35,49,.12)}
.step:target{box-shadow:0 0 0 4px rgba(43,89,195,.25)}
.shot{position:relative;margin:0;border-radius:8px;overflow:hidden;background:#111;
align-self:start;cursor:zoom-in;line-height:0}
.step.wide .shot{cursor:zoom-out}
.shot img{display:block;width:100%;height:auto;max-width:100%}
.shot.empty{display:flex;align-items:center;justify-content:center;background:#e9ecf1;
line-height:1.4;cursor:default}
.nothing{color:var(--soft);font-style:italic}
.overlay{position:absolute;inset:0;width:100%;height:100%;overflow:visible;pointer-events:none}
.ov{--c:var(--accent)}.ov.trail{--c:#00d0ff}.ov.arrow{--c:#ffd23f}.ov.failed{--c:#ff9b2e}
.overlay *{vector-effect:non-scaling-stroke;fill:none;stroke:var(--c);stroke-width:2.5px;
stroke-linecap:round;stroke-linejoin:round}
.overlay .head,.overlay .dot{fill:var(--c)}
.overlay .halo *{stroke:rgba(0,0,0,.55);stroke-width:6px}.overlay .halo .head{fill:rgba(0,0,0,.55)}
.pin{position:absolute;transform:translateY(-50%);background:rgba(20,24,32,.85);color:#fff;
font-size:12px;line-height:1.3;padding:2px 7px;border-radius:6px;white-space:nowrap;
pointer-events:none;max-width:45%;overflow:hidden;text-overflow:ellipsis}
.pin.flip{transform:translate(-100%,-50%)}
.captions{position:absolute;left:8px;bottom:8px;right:8px;display:flex;flex-wrap:wrap;gap:6px;
line-height:1.3;pointer-events:none}
.cap{background:rgba(20,24,32,.85);color:#fff;padding:4px 9px;border-radius:6px;font-size:13px;
max-width:100%;overflow-wrap:anywhere;border-left:3px solid var(--accent)}
.cap.failed{border-left-color:#ff9b2e}
.about{min-width:0;display:flex;flex-direction:column;gap:10px}
.about header{display:flex;flex-wrap:wrap;align-items:baseline;gap:6px 10px}
h2{margin:0;font-size:1.15rem}h2 a{color:inherit;text-decoration:none}
.offset{color:var(--soft);font-size:.85rem}
.badge{font-size:.75rem;font-weight:600;padding:1px 8px;border-radius:999px;border:1px solid}
.badge.bad{color:var(--bad)}.badge.warn{color:var(--warn)}
.badge.solid{background:var(--bad);border-color:var(--bad);color:#fff}
.by{font-size:.72rem;font-weight:600;padding:1px 8px;border-radius:999px;color:#fff;
background:var(--soft);text-transform:uppercase;letter-spacing:.04em}
.by-model{background:var(--info)}.by-healed{background:var(--warn)}
.healed{margin:6px 0 0;padding:6px 10px;border-radius:8px;background:#fff6e5;font-size:.9rem;
overflow-wrap:anywhere}
.repair pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--code);padding:8px;
border-radius:6px;font-size:.82rem}.repair .add{color:var(--ok)}.repair .del{color:var(--bad)}
.repair .hunk{color:var(--info)}.repair summary{font-weight:600}
.actions li{padding:5px 0;border-bottom:1px dashed var(--line);overflow-wrap:anywhere}
.actions li:last-child{border-bottom:0}
.actions code{background:var(--code);padding:2px 6px;border-radius:5px}
.actions .failed code{background:#fdecee}.actions .none{color:var(--soft);font-style:italic}
.rejected{color:var(--warn)}.flag{font-size:.78rem;margin-left:4px;white-space:nowrap}
.flag.bad{color:var(--bad);white-space:normal}.flag.quiet{color:var(--soft)}.flag.warn{color:var(--warn)}
.note{color:var(--soft);font-size:.88rem;overflow-wrap:anywhere}
.bar{display:flex;height:6px;border-radius:3px;overflow:hidden;background:var(--line)}
.timing{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:6px;margin:0}
.timing dd{font-weight:600;font-size:.92rem}.timing dt i{display:inline-block;width:8px;
height:8px;border-radius:2px;margin-right:4px}
.t-capture{background:#8a94a6}.t-model{background:#7b5cd6}.t-action{background:#2b8de0}
.t-settle{background:#27b39b}
.usage{margin:0;color:var(--soft);font-size:.88rem}
details.thought,details.raw{border:1px solid var(--line);border-radius:10px;padding:6px 10px}
details summary{cursor:pointer;font-weight:600;font-size:.9rem}
.thought .text{margin:6px 0 2px;white-space:pre-wrap;overflow-wrap:anywhere}
.raw pre{margin:6px 0 2px;white-space:pre-wrap;overflow-wrap:anywhere;max-height:28em;
overflow:auto;background:var(--code);padding:8px;border-radius:6px}
.empty-run{background:var(--card);border:1px dashed var(--line);border-radius:14px;padding:24px;
text-align:center;color:var(--soft)}
footer{color:var(--soft);font-size:.82rem;text-align:center;margin-top:24px;overflow-wrap:anywhere}
kbd{border:1px solid var(--line);border-bottom-width:2px;border-radius:4px;padding:0 4px}
@media (max-width:860px){.step{grid-template-columns:minmax(0,1fr);padding:10px}
main{padding:10px 8px 30px}h1{font-size:1.3rem}.summary{padding:14px}
.timing{grid-template-columns:repeat(2,minmax(0,1fr))}}
@media (prefers-color-scheme:dark){:root{--bg:#11141a;--card:#1a1e26;--ink:#e6e9ef;
--soft:#98a1b3;--line:#2c3240;--code:#232937;--info:#7aa2ff}
.went-wrong:hover{background:#3a1d22}.actions .failed code{background:#3a1d22}
.shot.empty{background:#232937}}
@media print{:root{--bg:#fff;--card:#fff;--ink:#000;--line:#ccc;--code:#f3f3f3}
main{max-width:none;padding:0}.summary,.step{box-shadow:none}
.step{break-inside:avoid;page-break-inside:avoid;grid-template-columns:minmax(0,3fr) minmax(0,2fr)}
.shot{cursor:default}.strip,footer kbd{display:none}
details::details-content{content-visibility:visible;display:contents}
.raw pre{max-height:none;overflow:visible}a{text-decoration:none}}
"""

SCRIPT = """
(() => {
  const opened = [];
  addEventListener('beforeprint', () => {
    document.querySelectorAll('details:not([open])').forEach((d) => {
      d.open = true;
      opened.push(d);
    });
  });
  addEventListener('afterprint', () => opened.splice(0).forEach((d) => { d.open = false; }));
  const steps = [...document.querySelectorAll('.step')];
  addEventListener('keydown', (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key !== 'j' && event.key !== 'k') return;
    const tops = steps.map((s) => s.getBoundingClientRect().top);
    const next = event.key === 'j'
      ? steps.find((_, i) => tops[i] > 20)
      : steps.filter((_, i) => tops[i] < -20).pop();
    if (next) next.scrollIntoView({block: 'start'});
  });
  document.querySelectorAll('.shot:not(.empty)').forEach((shot) => {
    shot.addEventListener('click', () => shot.closest('.step').classList.toggle('wide'));
  });
})();
"""

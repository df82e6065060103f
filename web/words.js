// words.js: the page's language (English or 中文, remembered in the
// browser), t() for its words (web/i18n.js), and the engine's errors in it.
import { I18N } from './i18n.js';
import { oneLine } from './util.js';

const LANG_KEY = 'spikegrad.lang';
let lang = pickLang();
const listeners = [];

function pickLang() {
  let saved = null;
  try {
    saved = localStorage.getItem(LANG_KEY);
  } catch (err) {
    // Storage can be off; the default language then.
  }
  if (saved === 'en' || saved === 'zh') {
    return saved;
  }
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function getLang() {
  return lang;
}

// setLang switches the page's language and tells every listener.
export function setLang(l) {
  lang = l;
  try {
    localStorage.setItem(LANG_KEY, l);
  } catch (err) {
    // Not remembered, still switched.
  }
  for (const f of listeners) {
    f(l);
  }
}

export function onLang(f) {
  listeners.push(f);
}

// t returns the text of key in the page's language, with {name} filled in.
export function t(key, args) {
  let text = I18N[lang][key];
  if (text === undefined) {
    text = I18N.en[key] !== undefined ? I18N.en[key] : key;
  }
  if (args) {
    text = text.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? String(args[name]) : whole));
  }
  return text;
}

// The engine's errors (Go's, in English) said in Chinese: the file's name
// stays, the problem is translated where it is one the page knows.
const ZH_ERRORS = [
  [/^cut off, or not a CIFAR binary batch: size (\d+) bytes/, (m) => `文件不完整（被截断），或不是 CIFAR 二进制批次：${m[1]} 字节不是整数条记录`],
  [/^the file is cut off.*\((\d+) bytes\)$/, (m) => `文件不完整（被截断，只有 ${m[1]} 字节）`],
  [/^the file is cut off, and it is a PyTorch checkpoint/, () => '文件不完整（被截断），且这是 PyTorch 模型权重：请放入“模型权重”一栏'],
  [/^the file is cut off or damaged: its zip directory/, () => '文件不完整（被截断）或已损坏：缺少位于末尾的 zip 目录'],
  [/cut off|truncated|unexpected EOF/i, () => '文件不完整（被截断）'],
  [/^-?indices "(.*)": "(.*)" is not an index or a range like 10-12$/, (m) => `图像序号 ${m[1]}：“${m[2]}”不是序号，也不是 10-12 这样的范围`],
  [/^-?indices "(.*)": no index$/, (m) => `图像序号 ${m[1]}：没有任何序号`],
  [/^a member \((.*)\) was asked for, but this is not a tar\.gz archive$/, (m) => `要求读取成员 ${m[1]}，但这不是 tar.gz 压缩包`],
  [/^offset (\d+), but the file holds (\d+) images$/, (m) => `起始图像 ${m[1]} 超出范围：文件只有 ${m[2]} 张图像`],
  [/^index (\d+), but the file holds (\d+) images/, (m) => `图像序号 ${m[1]} 超出范围：文件只有 ${m[2]} 张图像`],
  [/label (\d+).*?(\d+) classes/, (m) => `标签 ${m[1]} 超出范围：模型只有 ${m[2]} 个类别`],
  [/^images are (\S+), the model takes (\S+)/, (m) => `图像尺寸为 ${m[1]}，模型需要 ${m[2]}`],
  [/^empty file$/, () => '空文件'],
  [/^no tensor called images/, () => '其中没有名为 images 的张量：这是模型权重吗？请放入“模型权重”一栏'],
  [/^not a PyTorch checkpoint/, () => '不是 PyTorch 检查点文件'],
  [/not a whole number of CIFAR/, () => '大小不是整数条 CIFAR 记录：文件可能不完整'],
  [/not run$/, () => '此线程持有的文件与页面不一致，未运行'],
  [/^the engine stopped \((.*)\); it has been restarted$/, (m) => `计算引擎已停止（${m[1]}），已重新启动`],
];

// engineError is an engine's error as the page shows it: one line of at most
// MAX_ERROR characters, in the page's language.
export function engineError(message) {
  let line = String(message).split('\n')[0].trim();
  if (lang === 'zh') {
    // "name: problem": the name is the part before the first known
    // problem (a message without a name is tried last, whole).
    const parts = line.split(': ');
    const starts = parts.map((_, i) => i).slice(1).concat([0]);
    for (const i of starts) {
      const rest = parts.slice(i).join(': ');
      const hit = ZH_ERRORS.find(([re]) => re.test(rest));
      if (hit) {
        const head = parts.slice(0, i).join('：');
        const zh = hit[1](rest.match(hit[0]));
        line = head ? `${head}：${zh}` : zh;
        break;
      }
    }
  }
  return oneLine(line);
}

// What a data file was read as (the engine's words), in the page's language.
const ZH_FORMATS = [
  [/^CIFAR binary batch$/, () => 'CIFAR 二进制批次'],
  [/^CIFAR python batch$/, () => 'CIFAR Python 批次'],
  [/^CIFAR release archive, member (.*)$/, (m) => `CIFAR 发布压缩包，成员 ${m[1]}`],
  [/^PNG\/JPEG, resized \(bilinear\) and centre-cropped to (\S+)$/, (m) => `PNG/JPEG，双线性缩放并居中裁剪为 ${m[1]}`],
];

export function formatName(format) {
  if (lang !== 'zh' || !format) {
    return format;
  }
  const hit = ZH_FORMATS.find(([re]) => re.test(format));
  return hit ? hit[1](format.match(hit[0])) : format;
}

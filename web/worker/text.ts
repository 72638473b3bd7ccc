// The worker app's words, in Chinese (default) and English.

const zh = {
  title: "平安网格",
  login: "登录",
  username: "用户名",
  password: "密码",
  logout: "退出",
  online: "在线",
  offline: "离线：报告将在联网后发送",
  newReport: "上报事件",
  category: "类别",
  summary: "标题",
  details: "描述",
  photo: "照片",
  where: "位置",
  useGps: "使用定位",
  tapMap: "或在地图上点选位置",
  send: "提交",
  cancel: "取消",
  queued: "待发送",
  sent: "已发送",
  refused: "被拒绝",
  tasks: "我的任务",
  noTasks: "暂无任务",
  myGrid: "我的网格",
  noPosition: "请先确定位置（定位或点地图）",
  resultPhoto: "结果照片",
  done: "完成",
  loginFailed: "登录失败",
  needsLogin: "请重新登录以发送待发报告",
};

type Words = typeof zh;

const en: Words = {
  title: "Pingan grid",
  login: "Log in",
  username: "Username",
  password: "Password",
  logout: "Log out",
  online: "Online",
  offline: "Offline: reports are sent when the network returns",
  newReport: "Report an event",
  category: "Category",
  summary: "Title",
  details: "Description",
  photo: "Photo",
  where: "Location",
  useGps: "Use GPS",
  tapMap: "or tap the map",
  send: "Send",
  cancel: "Cancel",
  queued: "Waiting to send",
  sent: "Sent",
  refused: "Refused",
  tasks: "My tasks",
  noTasks: "No tasks",
  myGrid: "My grid",
  noPosition: "Set the location first (GPS or tap the map)",
  resultPhoto: "Result photo",
  done: "Done",
  loginFailed: "Login failed",
  needsLogin: "Log in again to send the waiting reports",
};

const LANG_KEY = "pingan.worker.lang";

export function lang(): "zh" | "en" {
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
}

export function toggleLang(): void {
  localStorage.setItem(LANG_KEY, lang() === "en" ? "zh" : "en");
}

export function t(key: keyof Words): string {
  return (lang() === "en" ? en : zh)[key];
}

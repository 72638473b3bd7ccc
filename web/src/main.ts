import "./styles.css";
import { ApiError, getJson, type Me } from "./api";
import { lang, setLang } from "./i18n";
import { showLogin } from "./login";
import { showShell } from "./shell";

async function whoAmI(): Promise<Me | null> {
  try {
    return await getJson<Me>("/api/v1/auth/me");
  } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) return null;
    throw exc;
  }
}

async function start(): Promise<void> {
  setLang(lang());
  const root = document.getElementById("app") as HTMLElement;
  let me = await whoAmI();
  while (me === null) {
    await showLogin(root);
    me = await whoAmI();
  }
  showShell(root, me);
}

void start();

import "./styles.css";
import { ApiError, getJson, type Me } from "./api";
import { lang, setLang } from "./i18n";
import { showLogin } from "./login";

const SEEN_KEY = "pingan.signedIn";

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
  // Someone signed in here before: fetch the shell alongside the session check.
  let shell: Promise<typeof import("./shell")> | null =
    localStorage.getItem(SEEN_KEY) === "1" ? import("./shell") : null;
  let me = await whoAmI();
  if (me === null) localStorage.removeItem(SEEN_KEY);
  // Otherwise the shell (and the map library in it) loads while the login form is
  // shown: started after the form is drawn, so parsing it does not delay that paint.
  while (me === null) {
    const login = showLogin(root);
    shell ??= new Promise((resolve) => requestAnimationFrame(() => resolve(import("./shell"))));
    await login;
    me = await whoAmI();
  }
  localStorage.setItem(SEEN_KEY, "1");
  (await (shell ?? import("./shell"))).showShell(root, me);
}

void start();

/**
 * Every string the console shows goes through i18next. Each area has its own namespace
 * file per language (`locales/<lng>/<namespace>.json`): `common`, `designer`, `jobs`, …
 * The language is the user's last choice, else the browser's; English is the fallback.
 */
import i18n from "i18next";
import LanguageDetector from "i18next-browser-languagedetector";
import { initReactI18next } from "react-i18next";

export const LANGUAGES = [
  { code: "en", label: "English" },
  { code: "zh-CN", label: "简体中文" },
] as const;
export type Language = (typeof LANGUAGES)[number]["code"];

const files = import.meta.glob<Record<string, unknown>>("./locales/*/*.json", { eager: true, import: "default" });

const resources: Record<string, Record<string, Record<string, unknown>>> = {};
for (const [path, messages] of Object.entries(files)) {
  const match = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (!match) continue;
  const [, language, namespace] = match;
  (resources[language] ??= {})[namespace] = messages;
}

void i18n
  .use(LanguageDetector)
  .use(initReactI18next)
  .init({
    resources,
    fallbackLng: "en",
    supportedLngs: LANGUAGES.map((item) => item.code),
    load: "currentOnly",
    ns: Object.keys(resources.en ?? { common: {} }),
    defaultNS: "common",
    interpolation: { escapeValue: false },
    detection: {
      order: ["querystring", "localStorage", "navigator"],
      lookupQuerystring: "lang",
      lookupLocalStorage: "fustgo.language",
      caches: ["localStorage"],
      // Any Chinese (zh, zh-Hans, zh-TW…) gets the zh-CN texts; other languages English.
      convertDetectedLanguage: (lng: string) => (lng.toLowerCase().startsWith("zh") ? "zh-CN" : "en"),
    },
    returnNull: false,
  });

/** zh, zh-Hans, zh-TW… → zh-CN; everything else → en. */
export function currentLanguage(): Language {
  return i18n.resolvedLanguage?.startsWith("zh") || i18n.language?.startsWith("zh") ? "zh-CN" : "en";
}

export default i18n;

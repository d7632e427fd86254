/** The two languages Warroom answers in, and the one-line pick between them. */
export type Lang = 'zh' | 'en';

export function t(lang: Lang, zh: string, en: string): string {
  return lang === 'zh' ? zh : en;
}

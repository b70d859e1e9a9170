import type { Config } from 'tailwindcss';

// Dark mode follows a class on <html> that public/theme.js sets before the
// first paint from the saved choice or prefers-color-scheme (an inline
// script would be refused by sbems's Content-Security-Policy).
export default {
  content: ['./index.html', './src/**/*.{ts,tsx}'],
  darkMode: 'class',
  theme: {
    extend: {},
  },
  plugins: [],
} satisfies Config;

/** React Router 6 opt-ins to v7 behaviour (no warnings now, no change when upgrading). */
export const ROUTER_FUTURE = { v7_startTransition: true, v7_relativeSplatPath: true } as const;

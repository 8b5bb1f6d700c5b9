import { expect, test } from "bun:test";
import { BetRequest } from "../../common/contracts/bet.ts";
import { guestId } from "./guest-id.ts";

test("makes an id the bet contract accepts, keeps it, and survives blocked storage", () => {
  const map = new Map<string, string>();
  const store = { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v) };
  const id = guestId(store);
  expect(id).toMatch(new RegExp(BetRequest.properties.user_id.pattern!));
  expect(guestId(store)).toBe(id);
  const blocked = {
    getItem: () => {
      throw new Error("blocked");
    },
    setItem: () => {
      throw new Error("blocked");
    },
  };
  expect(guestId(blocked)).toMatch(/^guest-[a-z0-9]{12}$/);
  expect(guestId(undefined)).toMatch(/^guest-[a-z0-9]{12}$/);
});

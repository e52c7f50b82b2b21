-- Simple inventory module with a queue and helpers
local Inventory = {}
Inventory.__index = Inventory

local DEFAULT_CAPACITY = 100

--[[ Create a new inventory.
     capacity is optional. ]]
function Inventory.new(name, capacity)
  local self = setmetatable({}, Inventory)
  self.name = name or "unnamed"
  self.capacity = capacity or DEFAULT_CAPACITY
  self.items = {}
  self.count = 0
  return self
end

function Inventory:add(item, qty)
  qty = qty or 1
  if type(item) ~= "string" then
    error("item must be a string, got " .. type(item))
  elseif self.count + qty > self.capacity then
    return false, "capacity exceeded"
  end
  self.items[item] = (self.items[item] or 0) + qty
  self.count = self.count + qty
  return true
end

function Inventory:remove(item, qty)
  local current = self.items[item]
  if not current then
    return nil
  end
  qty = math.min(qty or 1, current)
  self.items[item] = current - qty
  if self.items[item] == 0 then
    self.items[item] = nil
  end
  self.count = self.count - qty
  return qty
end

function Inventory:report()
  local names = {}
  for name in pairs(self.items) do
    names[#names + 1] = name
  end
  table.sort(names)
  for i, name in ipairs(names) do
    print(string.format("%2d. %-12s %5d", i, name, self.items[name]))
  end
end

local inv = Inventory.new("warehouse", 0x40)
local ok, err = pcall(function()
  inv:add("bolts", 20)
  inv:add("nuts", 35)
  inv:add(42)
end)
if not ok then
  print("error: " .. tostring(err))
end

local n = 0
while n < 3 do
  n = n + 1
end
repeat
  n = n - 1
until n <= 0

for i = 10, 1, -2 do
  inv:remove("nuts", i)
end
inv:report()
return Inventory

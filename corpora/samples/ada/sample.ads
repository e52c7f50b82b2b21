--  Bounded inventory manager specification.
with Ada.Strings.Unbounded; use Ada.Strings.Unbounded;
with Ada.Containers.Vectors;

package Inventory is

   Max_Items : constant := 500;
   Default_Price : constant Float := 9.99;

   type Item_Id is range 1 .. Max_Items;
   type Quantity is new Natural;

   type Category is (Hardware, Software, Service, Other);

   subtype Physical_Category is Category range Hardware .. Software;

   type Item is record
      Id       : Item_Id;
      Name     : Unbounded_String;
      Kind     : Category := Other;
      Count    : Quantity := 0;
      Price    : Float := Default_Price;
   end record;

   package Item_Vectors is new Ada.Containers.Vectors
     (Index_Type   => Positive,
      Element_Type => Item);

   type Stock is tagged private;

   Out_Of_Stock : exception;
   Unknown_Item : exception;

   procedure Add
     (S    : in out Stock;
      Name : String;
      Kind : Category;
      Qty  : Quantity);

   procedure Remove (S : in out Stock; Id : Item_Id; Qty : Quantity)
     with Pre => Qty > 0;

   function Find (S : Stock; Name : String) return Item_Id;

   function Total_Value (S : Stock) return Float;

   function Is_Empty (S : Stock) return Boolean is
     (S.Count_Items = 0);

   function Count_Items (S : Stock) return Natural;

   generic
      with function Accept_Item (I : Item) return Boolean;
   procedure For_Each_Matching (S : Stock);

private

   type Stock is tagged record
      Items   : Item_Vectors.Vector;
      Next_Id : Item_Id := Item_Id'First;
   end record;

end Inventory;
